"""Vendor connectors: how helpdesks and messengers (Zendesk, Chatwoot, KakaoTalk) hear from Deflect, each in its
own format."""
