from django.urls import path

from hotline.web.consumers import TicketEventsConsumer

websocket_urlpatterns = [path("ws/tickets/", TicketEventsConsumer.as_asgi())]

from hotline.telephony.consumers import CtiConsumer  # noqa: E402
websocket_urlpatterns.append(path("ws/cti/", CtiConsumer.as_asgi()))
