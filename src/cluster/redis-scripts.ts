// The Lua scripts of the Redis hub. Each runs atomically on the server, so a
// lookup and the PUBLISH it decides on cannot be split by another node.
// Keys:  gp:nodes          zset node -> last heartbeat (Redis time, ms)
//        gp:n:<node>       the node's channel (see envelope.ts)
//        gp:t:<topic>      nodes with a local subscriber of topic;   gp:ni:<node> its topics
//        gp:c:<name>       claim "node|epoch|value";                 gp:nc:<node> its claims
//        gp:w:<name>       nodes watching name;                      gp:nw:<node> its watches
//        gp:g:<group>      hash member -> node;                      gp:ng:<node> its groups
//        gp:gf:<group>     hash member -> "<topic bytes>:<topic><framed message>", sent if its node dies
//        gp:epoch          claim epochs (fencing: every claim is newer than the one it replaces)

export interface Script {
  text: string;
  sha: string;
}

function script(text: string): Script {
  return { text, sha: new Bun.CryptoHasher("sha1").update(text).digest("hex") };
}

/**
 * What a node sent during one turn of its event loop, in order. KEYS: each entry's topic node set.
 * ARGV: self, one op character per entry ("p" publish, "+" / "-" this node gains / loses interest
 * in the topic), then each entry's argument: the message framed as `<length>:<envelope>`, or the
 * topic. All messages for one node go out as one PUBLISH of `m<framed>…`. Returns, per entry,
 * how many subscribers of other nodes' channels got it (0: nobody elsewhere).
 */
export const ROUTE_BATCH = script(`
local self, ops = ARGV[1], ARGV[2]
local index = 'gp:ni:' .. self
local buffers, order, targets = {}, {}, {}
for i = 1, #KEYS do
  local op, arg = string.sub(ops, i, i), ARGV[i + 2]
  local mine = {}
  if op == '+' then
    redis.call('SADD', KEYS[i], self)
    redis.call('SADD', index, arg)
  elseif op == '-' then
    redis.call('SREM', KEYS[i], self)
    redis.call('SREM', index, arg)
  else
    local nodes = redis.call('SMEMBERS', KEYS[i])
    for j = 1, #nodes do
      local node = nodes[j]
      if node ~= self then
        local buffer = buffers[node]
        if not buffer then
          buffer = {'m'}
          buffers[node] = buffer
          order[#order + 1] = node
        end
        buffer[#buffer + 1] = arg
        mine[#mine + 1] = node
      end
    end
  end
  targets[i] = mine
end
local receivers = {}
for k = 1, #order do
  local node = order[k]
  receivers[node] = redis.call('PUBLISH', 'gp:n:' .. node, table.concat(buffers[node]))
end
local counts = {}
for i = 1, #KEYS do
  local n = 0
  for _, node in ipairs(targets[i]) do n = n + receivers[node] end
  counts[i] = n
end
return counts`);

/** KEYS: set, this node's index of such sets. ARGV: member to add to the set, name to add to the index. */
export const INDEXED_ADD = script(`
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return 1`);

/** The reverse of INDEXED_ADD. */
export const INDEXED_REMOVE = script(`
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
return 1`);

/** KEYS: watchers of name, this node's watches, the claim. ARGV: self, name. Returns the claim or nil. */
export const WATCH = script(`
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return redis.call('GET', KEYS[3])`);

/**
 * KEYS: claim, this node's claims, watchers, epoch counter. ARGV: self, value, name.
 * Takes the name; tells the previous holder's node it lost it and every watcher it is gone. Returns the epoch.
 */
export const CLAIM = script(`
local prev = redis.call('GET', KEYS[1])
local epoch = redis.call('INCR', KEYS[4])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. epoch .. '|' .. ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
if prev then
  local node, old = string.match(prev, '^(.-)|(%d+)|')
  if node then
    redis.call('PUBLISH', 'gp:n:' .. node, 'l' .. old .. ':' .. ARGV[3])
    if node ~= ARGV[1] then redis.call('SREM', 'gp:nc:' .. node, ARGV[3]) end
    local watchers = redis.call('SMEMBERS', KEYS[3])
    for i = 1, #watchers do redis.call('PUBLISH', 'gp:n:' .. watchers[i], 'g' .. old .. ':' .. ARGV[3]) end
  end
end
return epoch`);

/** KEYS: claim, this node's claims, watchers. ARGV: the claim as stored, name, epoch. Only the holder releases. */
export const RELEASE = script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
local watchers = redis.call('SMEMBERS', KEYS[3])
for i = 1, #watchers do redis.call('PUBLISH', 'gp:n:' .. watchers[i], 'g' .. ARGV[3] .. ':' .. ARGV[2]) end
return 1`);

/**
 * KEYS: claim, this node's claims, epoch counter. ARGV: the claim as stored, name, epoch.
 * After a Redis restart or a partition: 1 if the claim still stands (restored if it was lost with
 * Redis), 0 if another node took the name meanwhile. Epochs never go back below a restored one.
 */
export const RECLAIM = script(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
if not cur then redis.call('SET', KEYS[1], ARGV[1]) end
redis.call('SADD', KEYS[2], ARGV[2])
if tonumber(redis.call('GET', KEYS[3]) or '0') < tonumber(ARGV[3]) then redis.call('SET', KEYS[3], ARGV[3]) end
return 1`);

/**
 * KEYS: group, this node's groups, farewells. ARGV: member, self, group, farewell ('' for none).
 * Returns the group as [member, node, …].
 */
export const JOIN = script(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[3], ARGV[1], ARGV[4]) else redis.call('HDEL', KEYS[3], ARGV[1]) end
return redis.call('HGETALL', KEYS[1])`);

/** KEYS: group, farewells. ARGV: member, self. Only the member's own node removes it; a leave says no farewell. */
export const LEAVE = script(`
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
end
return 1`);

/**
 * KEYS: node zset. ARGV: self, ttl ms. Returns {Redis now ms, own previous heartbeat or '', {node, ms, …}}.
 * Entries of dead nodes stay (stale) for ten TTLs so every node sees them die, then go.
 */
export const HEARTBEAT = script(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local prev = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 10 * tonumber(ARGV[2]))
return {tostring(now), prev or '', redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')}`);

/**
 * ARGV: a node that died or left, ttl ms. Removes everything it announced: interests, watches,
 * claims still naming it, group memberships. Its heartbeat is left stale (a leaving node makes it
 * so), for the others to see it dead. O(what it held); run by one node (a lock).
 */
export const FORGET_NODE = script(`
local node = ARGV[1]
local function unindex(index, prefix)
  local names = redis.call('SMEMBERS', index)
  for i = 1, #names do redis.call('SREM', prefix .. names[i], node) end
  redis.call('DEL', index)
end
unindex('gp:ni:' .. node, 'gp:t:')
unindex('gp:nw:' .. node, 'gp:w:')
local claims = redis.call('SMEMBERS', 'gp:nc:' .. node)
for i = 1, #claims do
  local v = redis.call('GET', 'gp:c:' .. claims[i])
  if v and string.sub(v, 1, #node + 1) == node .. '|' then redis.call('DEL', 'gp:c:' .. claims[i]) end
end
redis.call('DEL', 'gp:nc:' .. node)
-- Its members leave their groups; each farewell goes to the nodes listening on its topic.
local groups = redis.call('SMEMBERS', 'gp:ng:' .. node)
for i = 1, #groups do
  local kv = redis.call('HGETALL', 'gp:g:' .. groups[i])
  for j = 1, #kv, 2 do
    if kv[j + 1] == node then
      redis.call('HDEL', 'gp:g:' .. groups[i], kv[j])
      local farewell = redis.call('HGET', 'gp:gf:' .. groups[i], kv[j])
      redis.call('HDEL', 'gp:gf:' .. groups[i], kv[j])
      local length, rest = string.match(farewell or '', '^(%d+):()')
      if length then
        local topic = string.sub(farewell, rest, rest + tonumber(length) - 1)
        local listeners = redis.call('SMEMBERS', 'gp:t:' .. topic)
        for k = 1, #listeners do
          if listeners[k] ~= node then redis.call('PUBLISH', 'gp:n:' .. listeners[k], 'm' .. string.sub(farewell, rest + tonumber(length))) end
        end
      end
    end
  end
end
redis.call('DEL', 'gp:ng:' .. node)
redis.call('HDEL', 'gp:addr', node)
local score = redis.call('ZSCORE', 'gp:nodes', node)
if score then
  local t = redis.call('TIME')
  local stale = t[1] * 1000 + math.floor(t[2] / 1000) - tonumber(ARGV[2]) - 1
  if tonumber(score) > stale then redis.call('ZADD', 'gp:nodes', stale, node) end
end
return 1`);

export const ALL_SCRIPTS = [ROUTE_BATCH, INDEXED_ADD, INDEXED_REMOVE, WATCH, CLAIM, RELEASE, RECLAIM, JOIN, LEAVE, HEARTBEAT, FORGET_NODE];
