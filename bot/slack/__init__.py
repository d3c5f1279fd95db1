"""The Slack app: one slash command, mentions, direct messages and an App Home, over Bolt.

Split by concept so the adapter stays a translator: `transport` connects (HTTP or Socket Mode)
and owns answers in flight, `text` reads what Slack sends, `payloads` shapes what we send back,
`locales` asks Slack about users.
"""
