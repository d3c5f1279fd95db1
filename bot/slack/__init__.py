"""The Slack app: one slash command, mentions, direct messages and an App Home, over Bolt.

Split by concept so the adapter stays a translator: `text` reads what Slack sends, `messages`
and `home` shape what we send back, `locales` remembers users' languages.
"""
