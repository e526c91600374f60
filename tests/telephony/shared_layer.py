"""An in-memory channel layer that counts as shared (not named InMemoryChannelLayer),
so ``telephony.cti`` sends to groups directly, as it does with Redis. Used where a
Redis server cannot run in the test (none is installed here)."""

from channels.layers import InMemoryChannelLayer


class SharedMemoryLayer(InMemoryChannelLayer):
    pass
