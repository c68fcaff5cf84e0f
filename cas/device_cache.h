/*
 * A bounded per-device cache: one value per (user, DeviceId), looked up in
 * O(1) through a fixed hash table, evicted least recently used when full.
 * The Ping parameter cache (ping_req.c) and the partial-Sync cache
 * (sync_req.c) keep their own value types in it.
 *
 * Locking: one mutex per cache.  device_cache_lock() is held around any
 * get/put and around every use of a value returned by get, so that a
 * caller reads and updates one device's value atomically; values are owned
 * by the cache and released through the free callback given at creation
 * (on replacement, eviction and device_cache_free()).
 */
#ifndef CAS_DEVICE_CACHE_H
#define CAS_DEVICE_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct device_cache;

struct device_cache *device_cache_new(size_t max_devices,
				      void (*free_value)(void *value));
void device_cache_free(struct device_cache **cache);

void device_cache_lock(struct device_cache *cache);
void device_cache_unlock(struct device_cache *cache);

/*
 * The value cached for (user, device_id), marked most recently used, or
 * NULL.  Lock held.
 */
void *device_cache_get(struct device_cache *cache, uint64_t user,
		       const char *device_id);

/*
 * Store value for (user, device_id), replacing (and freeing) an older one
 * or evicting the least recently used device when full.  Lock held.  -1
 * when device_id is longer than ASHTTP_MAX_DEVICE_ID_BYTES or memory runs
 * out; the value then stays the caller's.
 */
int device_cache_put(struct device_cache *cache, uint64_t user,
		     const char *device_id, void *value);

/* Number of cached devices (takes the lock itself). */
size_t device_cache_count(struct device_cache *cache);

#endif
