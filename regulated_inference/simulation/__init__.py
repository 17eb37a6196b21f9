"""Simulated AWS and the recording engine: run a Pulumi Python program under
`pulumi.runtime.set_mocks` with realistic, region-aware ARNs and IDs, and record every resource
the way the engine sees it. Used by the offline preview and by the tests."""
