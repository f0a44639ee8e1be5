"""Correction pages: `requests` (申请补卡, 我的申请, 审批; mounted at /requests/) and
`attachments` (downloads, at /corrections/)."""
