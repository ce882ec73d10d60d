"""Use cases. Each takes the session, the actor and the time explicitly, flushes, never commits."""
