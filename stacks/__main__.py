"""The regulated-inference stack program (`main: stacks/` in Pulumi.yaml).

The language host runs this file with `stacks/` first on sys.path; everything it needs comes from
the installed `regulated_inference` package (stacks/requirements.txt), see
`regulated_inference.stack.main`.
"""

from regulated_inference.stack import main

main()
