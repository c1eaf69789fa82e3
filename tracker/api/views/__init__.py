"""API v1 views, one module per resource: thin. Validate with a serializer, scope with a selector,
write with a service, audit every read of patient data (``base.PatientEndpoint`` for the views of
one patient)."""
