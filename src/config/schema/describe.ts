/**
 * One line of documentation per config key, by its reference path (reference.ts: `<pool>` is a
 * pool's name, `<name>` an entry's, `[]` a list item). The reference (docs/configuration.md)
 * and the JSON Schema editors read (schema/keepcache.schema.json) both take them from here; a
 * test fails when a key has none, so a new key cannot ship undocumented. Keys of health checks
 * and TLS blocks are described once (CHECK, TLS) wherever they appear.
 */

const CHECK: Record<string, string> = {
  type: "What the probe does: tcp connect, http/https GET, a MySQL handshake, Redis PING, memcached version, or a script (keepalived MISC_CHECK).",
  interval: "Milliseconds between probes (keepalived delay_loop).",
  timeout: "Milliseconds a probe may take before it counts as a failure (connect_timeout).",
  rise: "Consecutive successes that bring a down server back.",
  fall: "Consecutive failures that take a server down (keepalived retry + 1).",
  path: "http/https: the request path (keepalived url.path).",
  status: "http/https: the status codes that count as up (keepalived status_code).",
  digest: "http/https: md5 hex digest the body must have (keepalived url.digest).",
  host: "http/https: the Host header (keepalived virtualhost).",
  port: "Probe this port instead of the server's (keepalived connect_port).",
  script: "type script: the command to run (keepalived MISC_CHECK).",
  "script.command": "The command line; exit 0 is up, 1 down.",
  "script.dynamic": "Exit codes 2-255 mean up with weight = code - 2 (keepalived misc_dynamic).",
  "script.user": "The user the script runs as.",
};

const TLS: Record<string, string> = {
  cert: "PEM certificate file.",
  key: "PEM private key file.",
  ca: "PEM CA bundle: on a listener, clients must present a certificate it signed; to backends, the CA that signed them.",
  servername: "Backends: the name (SNI) to ask for and verify.",
};

const NOTIFY = {
  notify_master: "Command run on the transition to MASTER (keepalived notify_master).",
  notify_backup: "Command run on the transition to BACKUP.",
  notify_fault: "Command run on the transition to FAULT.",
  notify_stop: "Command run when the instance stops.",
  notify:
    'Command run on every transition with keepalived\'s arguments: "INSTANCE"|"GROUP", name, state, priority.',
};

const TRACKED = {
  "": "Tracked names: a name, or {name, weight} to override the weight.",
  "[]": "A name, or {name, weight}.",
  "[].name": "The name tracked.",
  "[].weight":
    "Priority change while it fails (negative) or succeeds (positive); 0 or unset: its failure is a FAULT.",
};

function prefixed(prefix: string, table: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(table).map(([k, v]) => [`${prefix}${k}`, v]));
}

export const DESCRIPTIONS: Record<string, string> = {
  // Proxy pools: a twemproxy pool (nc_conf.c) with keepcache's extensions.
  pools:
    "Proxy pools by name, the same keys as a top-level <pool>: use it when a pool's name would clash with a section name.",
  "<pool>":
    "A proxy pool (twemproxy's pool). Any top-level key that is not a section name is a pool, so a nutcracker.yml loads as it is.",
  "<pool>.listen": 'Where clients connect: "host:port", or "/path/to/socket [mode]".',
  "<pool>.hash":
    "The key hash (twemproxy's 12): the same keys land on the same servers as twemproxy.",
  "<pool>.hash_tag":
    'Two characters: only the part of a key between them is hashed ("{}" sends user:{42}:a and user:{42}:b to one server).',
  "<pool>.distribution":
    "How hashes map to servers: ketama (consistent hashing), modula, or random.",
  "<pool>.timeout":
    "Milliseconds a server may take to answer before the request fails (or is retried); unset: wait forever, as twemproxy.",
  "<pool>.backlog": "The listening socket's accept backlog.",
  "<pool>.preconnect": "Connect to every server at start instead of on first use.",
  "<pool>.redis": "The pool speaks Redis (RESP) instead of memcached.",
  "<pool>.redis_auth": "Password keepcache sends to each Redis server (AUTH) when it connects.",
  "<pool>.redis_db": "Database keepcache SELECTs on each Redis server.",
  "<pool>.redis_user":
    "Backend ACL user for data connections (AUTH user password); it opens scripts, which the user's ACL must confine to redis_db (checked at connect).",
  "<pool>.redis_user_password": "The password of redis_user.",
  "<pool>.allow_commands":
    "Redis commands to open that the pool refuses by default (CONFIG, MIGRATE, EVAL, MONITOR, ...; README: command policy).",
  "<pool>.deny_commands": "Redis commands to refuse in addition to the default refusals.",
  "<pool>.redis_dedicated_connections":
    "Per server: the most connections leased to one client each (blocking commands, WATCH, subscriber mode, MONITOR).",
  "<pool>.server_connections": "Connections to each server.",
  "<pool>.auto_eject_hosts":
    "Take a failing server out of the hash ring (its keys move to others) until server_retry_timeout passes.",
  "<pool>.server_retry_timeout":
    "Milliseconds an ejected server stays out before it is tried again.",
  "<pool>.server_failure_limit":
    "Consecutive failures that eject a server (with auto_eject_hosts).",
  "<pool>.client_connections": "Most client connections at once; 0 = no limit.",
  "<pool>.tcpkeepalive": "TCP keepalive on server connections.",
  "<pool>.servers":
    'The shards: twemproxy server lines ("host:port:weight [name]", "/path/sock:weight [name]") or replica sets.',
  "<pool>.servers[]": "A server line, or a replica set (a mapping with name and members).",
  "<pool>.servers[].name":
    "Replica set: the name the pool hashes, so a failover inside the set never moves keys.",
  "<pool>.servers[].weight": "Replica set: its weight in the distribution.",
  "<pool>.servers[].members": "Replica set: its servers.",
  "<pool>.servers[].members[]": "One member of the set.",
  "<pool>.servers[].members[].address": 'The member\'s "host:port".',
  "<pool>.servers[].members[].role":
    "Redis: the role it should have (master, replica); any lets the set find out.",
  "<pool>.servers[].members[].weight": "Its share of reads with read: weighted.",
  "<pool>.servers[].write":
    "memcached sets: acknowledgements a write needs (all, majority or one member).",
  "<pool>.servers[].read":
    "Where reads go. memcached: primary, round-robin, weighted, least-outstanding. Redis: master, replica, prefer-replica, any.",
  "<pool>.servers[].failover":
    "Redis sets: builtin (the proxy detects, confirms with the replicas and promotes), sentinel (follows Sentinels), none.",
  "<pool>.servers[].sentinels": 'failover: sentinel: the Sentinels\' "host:port".',
  "<pool>.servers[].master_name": "failover: sentinel: the master's name the Sentinels monitor.",
  "<pool>.servers[].down_after":
    "Redis, builtin failover: milliseconds without answers before the master is suspected down.",
  "<pool>.servers[].read_miss_failover":
    "memcached sets: a miss on one member is retried on the next.",
  "<pool>.servers[].replicated":
    "memcached sets of keepcache nodes that replicate among themselves (-x): write: one goes to the primary only, and a returning node serves once its own resync is done.",
  "<pool>.servers[].check_interval":
    "Milliseconds between role polls (Redis) or health probes (memcached) of each member.",
  "<pool>.servers[].warm_timeout":
    "memcached sets: milliseconds a returning member may spend warming before it serves reads anyway.",
  "<pool>.servers[].notify":
    "Command run on every failover with Sentinel's client-reconfig-script arguments: <master-name> <role> <state> <from-ip> <from-port> <to-ip> <to-port>.",
  "<pool>.servers[].failover_vrrp_instance":
    "Builtin failover is decided only on the host that is VRRP MASTER of this instance (one decider among several proxies).",
  "<pool>.tls": "TLS on the pool's listener.",
  ...prefixed("<pool>.tls.", TLS),
  "<pool>.server_tls": "TLS to the pool's servers.",
  ...prefixed("<pool>.server_tls.", TLS),
  "<pool>.password": "Redis pools: clients must AUTH with it before other commands (user default).",
  "<pool>.health": "Active health checks of the pool's servers (memcached version, Redis PING).",
  "<pool>.health.interval": "Milliseconds between probes.",
  "<pool>.health.timeout": "Milliseconds a probe may take.",
  "<pool>.health.rise": "Consecutive successes that bring a server back.",
  "<pool>.health.fall": "Consecutive failures that take a server down.",
  "<pool>.retry": "Retries of failed idempotent requests.",
  "<pool>.retry.attempts":
    "Times a failed idempotent request is retried on the server that now owns the key; 0 = never.",
  "<pool>.max_request_bytes":
    "Largest request a client may send (default 1 MiB); bigger ones get an error.",
  "<pool>.client_output_limit":
    "Bytes of replies a client may leave unread (default 64 MiB) before it is disconnected.",
  "<pool>.redis_cluster":
    "The servers are seed nodes of a Redis Cluster: the pool learns the slot map and routes by hash slot, following MOVED/ASK and the cluster's failover (needs redis: true).",
  "<pool>.read":
    "Redis Cluster pools: where read-only commands go: master, replica or prefer-replica (replica connections get READONLY).",
  "<pool>.cluster_refresh_interval":
    "Redis Cluster pools: milliseconds between slot map refreshes when nothing asked for one.",
  "<pool>.cluster_failover_wait":
    "Redis Cluster pools: milliseconds a read to an unreachable master waits for the cluster to promote a replica; 0 = fail at once.",

  // TCP balancing: keepalived's virtual_server / real_server.
  tcp: "TCP services to balance (MySQL, MyCat, HTTP ...) by name: keepalived virtual_server, or an HAProxy listen block.",
  "tcp.<name>": "One balanced service.",
  "tcp.<name>.listen":
    'Where clients connect: "host:port" (the VIP and port of a keepalived virtual_server).',
  "tcp.<name>.balance":
    "Scheduler: rr, wrr, lc, wlc, sh (source hash), first (the first server up takes everything), leastconn.",
  "tcp.<name>.persistence_timeout":
    "Seconds a client IP sticks to the same server; 0 = no affinity.",
  "tcp.<name>.inhibit_on_failure":
    "Keep a failed server with weight 0 (drained) instead of removing it.",
  "tcp.<name>.sorry_server": '"host:port" that gets the clients when no server is up.',
  "tcp.<name>.maxconn":
    "Connections per server; past it clients wait in a bounded queue. 0 = no limit.",
  "tcp.<name>.queue_timeout": "Milliseconds a queued client waits before it is closed.",
  "tcp.<name>.slowstart":
    "Milliseconds over which a server that came back ramps up to its full weight.",
  "tcp.<name>.proxy_protocol":
    "Send HAProxy's PROXY protocol header (v1 text, v2 binary) to the servers.",
  "tcp.<name>.connect_timeout": "Milliseconds to connect to a server before trying another.",
  "tcp.<name>.check": "The health check of every server (each server may override fields).",
  ...prefixed("tcp.<name>.check.", CHECK),
  "tcp.<name>.notify_up": "Command run when a server comes up (keepalived notify_up).",
  "tcp.<name>.notify_down": "Command run when a server goes down (keepalived notify_down).",
  "tcp.<name>.backlog": "The listening socket's accept backlog.",
  "tcp.<name>.servers": "The real servers.",
  "tcp.<name>.servers[]": "One real server.",
  "tcp.<name>.servers[].address": 'Its "host:port".',
  "tcp.<name>.servers[].weight": "Its share of new connections; 0 = drained.",
  "tcp.<name>.servers[].backup": "Used only when no other server is up.",
  "tcp.<name>.servers[].maxconn": "Its own connection limit (overrides the service's).",
  "tcp.<name>.servers[].check": "Fields that override the service's check for this server.",
  ...prefixed("tcp.<name>.servers[].check.", CHECK),
  "tcp.<name>.servers[].notify_up": "Command run when this server comes up.",
  "tcp.<name>.servers[].notify_down": "Command run when this server goes down.",

  // VRRP: keepalived.conf's vrrp_* blocks.
  vrrp: "Virtual IP failover (VRRP v2/v3, keepalived-compatible on the wire). Needs CAP_NET_RAW and CAP_NET_ADMIN.",
  "vrrp.router_id": "This host's name in logs and notifications (keepalived router_id).",
  "vrrp.scripts": "Track scripts by name (keepalived vrrp_script).",
  "vrrp.scripts.<name>": "One track script.",
  "vrrp.scripts.<name>.script": "The command; exit 0 is success.",
  "vrrp.scripts.<name>.interval": "Seconds between runs.",
  "vrrp.scripts.<name>.timeout": "Seconds a run may take before it counts as a failure.",
  "vrrp.scripts.<name>.weight":
    "Priority change (-253..253): negative is applied while failing, positive while succeeding; 0: failure is a FAULT.",
  "vrrp.scripts.<name>.rise": "Consecutive successes to count as succeeding.",
  "vrrp.scripts.<name>.fall": "Consecutive failures to count as failing.",
  "vrrp.scripts.<name>.user": "The user the script runs as.",
  "vrrp.instances": "VRRP instances by name (keepalived vrrp_instance).",
  "vrrp.instances.<name>": "One virtual router.",
  "vrrp.instances.<name>.interface": "The interface adverts go out on and the VIPs are added to.",
  "vrrp.instances.<name>.state":
    "Initial state; the higher priority wins either way unless nopreempt.",
  "vrrp.instances.<name>.virtual_router_id": "VRID, 1-255: the same on every host of this router.",
  "vrrp.instances.<name>.priority":
    "1-255; the highest live priority is MASTER. 255 = the address owner.",
  "vrrp.instances.<name>.advert_int": "Seconds between adverts (v3: 0.01 steps).",
  "vrrp.instances.<name>.version": "VRRP version 2 (RFC 3768) or 3 (RFC 5798).",
  "vrrp.instances.<name>.nopreempt":
    "A higher priority host that comes back does not take over from the running MASTER (needs state BACKUP).",
  "vrrp.instances.<name>.preempt_delay": "Seconds after start before this host may preempt.",
  "vrrp.instances.<name>.virtual_ipaddress":
    'The VIPs: "10.0.0.100/24", optionally "dev eth1" or "label eth0:1" as in keepalived.',
  "vrrp.instances.<name>.virtual_ipaddress_excluded":
    "VIPs moved with the instance but not put in adverts.",
  "vrrp.instances.<name>.unicast_src_ip": "Source address of unicast adverts.",
  "vrrp.instances.<name>.unicast_peer":
    "Send adverts by unicast to these addresses instead of multicast.",
  "vrrp.instances.<name>.authentication": "Advert authentication.",
  "vrrp.instances.<name>.authentication.auth_type":
    "PASS (keepalived's plain password), AH (refused: IPsec-AH), HMAC (keepcache's HMAC-SHA256, keepcache peers only).",
  "vrrp.instances.<name>.authentication.auth_pass":
    "PASS: the password, 8 bytes at most (as keepalived sends).",
  "vrrp.instances.<name>.authentication.secret": "HMAC: the shared secret.",
  ...prefixed("vrrp.instances.<name>.track_script", {
    ...TRACKED,
    "": "Track scripts (names from vrrp.scripts), each optionally with a weight.",
  }),
  ...prefixed("vrrp.instances.<name>.track_interface", {
    ...TRACKED,
    "": "Interfaces whose link state is tracked: down is a FAULT, or a priority change with a weight.",
  }),
  "vrrp.instances.<name>.track_file":
    "Files holding a number that changes the priority (keepalived track_file).",
  "vrrp.instances.<name>.track_file[]": "One tracked file.",
  "vrrp.instances.<name>.track_file[].path": "The file.",
  "vrrp.instances.<name>.track_file[].weight":
    "Multiplies the file's number; 0: a non-zero number is a FAULT.",
  ...prefixed("vrrp.instances.<name>.", NOTIFY),
  "vrrp.instances.<name>.garp_master_delay":
    "Seconds after becoming MASTER before the second round of gratuitous ARPs.",
  "vrrp.instances.<name>.garp_master_repeat": "Gratuitous ARPs sent per round.",
  "vrrp.instances.<name>.garp_master_refresh":
    "Seconds between gratuitous ARP refreshes while MASTER; 0 = none.",
  "vrrp.instances.<name>.check_unicast_src":
    "Accept unicast adverts only from the unicast_peer addresses.",
  "vrrp.instances.<name>.v3_checksum_as_v2":
    "VRRPv3 checksum without the pseudo-header, for peers that compute it so (keepalived vrrp_v3_checksum_as_v2).",
  "vrrp.sync_groups": "Instances that change state together (keepalived vrrp_sync_group).",
  "vrrp.sync_groups.<name>": "One group.",
  "vrrp.sync_groups.<name>.group": "Names of its instances.",
  ...prefixed("vrrp.sync_groups.<name>.", NOTIFY),
  "vrrp.enable_script_security":
    "Refuse scripts that a non-root user could change (keepalived enable_script_security).",
  "vrrp.shutdown_adverts": "Priority-0 adverts sent on shutdown so a BACKUP takes over at once.",

  // Sections of the process.
  admin: "The admin plane: dashboard, Prometheus /metrics and the JSON API.",
  "admin.listen": '"host:port"; a non-loopback address needs a token.',
  "admin.token":
    "Token (at least 16 characters; or env KEEPCACHE_ADMIN_TOKEN) every request needs but /healthz, /readyz and /login: a bearer header, or the cookie the login form sets.",
  "admin.metrics_token":
    "A scrape-only token for /metrics (or env KEEPCACHE_METRICS_TOKEN), so Prometheus need not hold the admin token.",
  sentinel:
    "A Sentinel-compatible endpoint: clients that find their master through Sentinel (SENTINEL get-master-addr-by-name, +switch-master) follow the replica sets' failovers.",
  "sentinel.listen": '"host:port" where Sentinel clients connect (redis-sentinel uses 26379).',
  "sentinel.max_clients": "Most client connections at once (redis-sentinel's maxclients: 10000).",
  "sentinel.output_limit":
    "Bytes of replies a client may leave unread before it is disconnected (as redis' pubsub output limit).",
  log: "Logging.",
  "log.level": "Least severe level written (env KEEPCACHE_LOG_LEVEL and -v override it).",
  "log.format": "json lines, or pretty (readable) lines.",
  "log.file": "Write the log to this file instead of stderr.",
  node: "Reserved for an embedded cache node's settings.",
  "node.<name>": "Reserved.",
  workers:
    'Processes for the data plane: 1 (the main process only), up to 64, or "auto" (one per core). They share each TCP listener.',
};
