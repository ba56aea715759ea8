"""Search: the outbox that keeps the index in step, and the backends behind one interface."""
