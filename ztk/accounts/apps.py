from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ztk.accounts"
    label = "accounts"
