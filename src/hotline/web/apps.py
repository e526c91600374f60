from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "hotline.web"
    label = "web"
    verbose_name = "Pages"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from hotline.cases.models import TicketEvent
        from hotline.web.live import on_event_saved

        post_save.connect(on_event_saved, sender=TicketEvent, dispatch_uid="web-live-updates")
        # WhiteNoise serves STATIC_ROOT (after `collectstatic`) besides the finders and
        # warns when the folder is missing; an empty one is the embedded default.
        from django.conf import settings

        try:
            settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
        except (OSError, AttributeError):  # read-only data dir: WhiteNoise only warns
            pass
