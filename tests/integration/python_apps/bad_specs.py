"""bad_specs.py - attributes that are not ASGI apps, for the bad-app-spec tests."""
not_callable = 42
