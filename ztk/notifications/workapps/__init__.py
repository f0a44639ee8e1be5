"""Messages to a person through the company's work apps (DingTalk 工作通知, WeCom 应用消息,
Feishu 消息) and approvals decided on their interactive cards (docs/work-apps.md).

Modules: `models` (the app configuration per platform, user id mappings, callback
nonces, the approval cards sent and how to update them), `config` (base URLs, the
callback window), `api` (the platforms' open APIs: tokens, sending, card updates, user ids
by mobile), `send` (the outbox channel), `cards` (approval cards and their decided
state), `crypto` (the callbacks' signatures and AES), `callbacks` (verify and decode a
callback into a decision), `services` (settings and mapping writes, audited; the cards'
update after a decision, `cards_settled`), `tasks` (the sync-by-mobile background job).
"""
