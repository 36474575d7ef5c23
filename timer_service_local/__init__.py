"""The local stack's parts that know no Lambda shapes: embedded AWS endpoint and saved state."""
