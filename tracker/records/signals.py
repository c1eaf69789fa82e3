"""What the records layer announces to the layers above it, which subscribe in their ``AppConfig.ready``.

The records layer never imports the outcomes layer: it says that a patient's entries changed, and
``projections`` decides what to recompute.
"""

from django.dispatch import Signal

#: Sent once a transaction that changed a patient's entries has committed, when tasks run eagerly
#: (with a broker the outbox row does the same job). Arguments: ``patient_id``.
entries_changed = Signal()
