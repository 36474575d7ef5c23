"""Built-in job types, registered through the ``timer_service.job_types`` entry points."""
