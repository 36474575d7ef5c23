"""The ``timer-service`` command line: the local stack, and tools for local and deployed stacks."""
