"""
Django's Redis cache backend, keeping its redis-py client objects.

Django's RedisCacheClient builds a new ``redis.Redis`` for every cache call; in
redis-py 8 that builds a table of some 170 response callbacks each time, which
costs more than the network round trip itself, and a page-cache hit makes two
calls. The client objects are thread-safe wrappers of a connection pool, so one
per pool is enough (Django already keeps one pool per server).
"""

from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        if index not in self._clients:
            self._clients[index] = super().get_client(key, write=write)
        return self._clients[index]


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
