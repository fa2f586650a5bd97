"""The synthetic city: a true population and the messy department extracts drawn from it."""
