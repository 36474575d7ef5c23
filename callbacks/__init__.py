"""SQS consumer Lambda and the built-in job types."""
