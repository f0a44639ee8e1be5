"""The one approval machinery (审批): chains, steps, skip rules, the HR → superuser →
oversight fallback, delegation, transfer, comments, SLA deadlines and reminders, and the
order of every approver's queue — for any request type (corrections first; leave, outing
and overtime requests next). See docs/approvals.md.

Below the request types, above attendance and org: nothing here imports a request type;
each registers a ``Decidable`` adapter (``ztk.approvals.registry``).
"""
