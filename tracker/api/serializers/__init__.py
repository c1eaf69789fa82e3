"""Request validation and response shapes of API v1 (shared/API.md), one module per resource: input
serializers (``…CreateSerializer``, ``…RequestSerializer``), output serializers (they also describe
the answers in the schema) and query serializers (``…QuerySerializer``: a list's filters)."""
