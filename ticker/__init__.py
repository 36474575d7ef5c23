"""Per-shard tick Lambda: a thin handler around the core tick engine."""
