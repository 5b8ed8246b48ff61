"""The shared order service: database, carts, checkout, reorders, pickup orders, dialogue."""
