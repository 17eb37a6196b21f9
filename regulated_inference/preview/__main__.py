"""`python -m regulated_inference.preview` (see `regulated_inference.preview.cli`)."""

import os
import sys

from regulated_inference.preview.cli import main, tune_gc

if __name__ == "__main__":
    tune_gc()
    code = main()
    # Everything is written and the pack process is stopped by now. Tearing down
    # the interpreter (thousands of pulumi_aws modules, the Pulumi runtime's
    # event loops) takes about a second and can print spurious __del__ errors;
    # a CLI has nothing left to clean up, so leave at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
