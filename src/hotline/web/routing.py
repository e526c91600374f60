from django.urls import path

from hotline.web.consumers import TicketEventsConsumer

websocket_urlpatterns = [path("ws/tickets/", TicketEventsConsumer.as_asgi())]
