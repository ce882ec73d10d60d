"""Pure domain logic: no Flask, no SQLAlchemy; rules as functions over data."""
