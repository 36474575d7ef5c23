"""The load and cost harness (python -m loadtest): scenarios in their own modules."""

BENCHMARK_SIGNING_KEY = "loadtest-message-signing-key"  # signs messages as the service does
