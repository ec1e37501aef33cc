"""Outbound deliveries: the worker that sends what the outbox holds, and the senders it sends with."""
