from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "hotline.cases"
    label = "cases"
    verbose_name = "工单"

    def ready(self) -> None:
        from hotline.cases import cache

        cache.connect_signals()
