"""Published language shared by every service of the portfolio platform.

Only what crosses a service boundary lives here: event names, the envelope, payload
schemas, error bases, the caller token, and the messaging kit (outbox, relay,
idempotent reliable consumers, topology, dead letters). No service's model.
"""
