"""Every write: typed, keyword-only ``<entity>_<action>`` functions that validate with
``scoring``, write in a transaction, record the audit event and schedule follow-up work
with ``transaction.on_commit``."""
