"""One URLconf per mount: `requests` at /requests/, `attachments` at /corrections/."""
