"""Rendering: a Reply in a dialect (plain text, Telegram HTML, Slack mrkdwn), from templates."""
