-- wrk script: every request a distinct small URL (/m<thread>-<n>), so each is a miss
-- that the proxy stores. Used by benches/soak/mem.sh and per-entry.sh.
--
-- The thread's number is read in init() from the thread's own Lua state
-- (`wrk.thread:get`): a chunk-level `local` of the same name would shadow the global
-- that `thread:set` writes, and before session 16 it did: both threads requested
-- /m0-1, /m0-2, ..., so a third of the stores replaced an entry the other thread had
-- just stored.
local counter = 0
local tid = 0
local next_id = 1

function setup(thread)
    thread:set("id", next_id)
    next_id = next_id + 1
end

function init(args)
    tid = tonumber(wrk.thread:get("id") or "0") or 0
end

function request()
    counter = counter + 1
    return wrk.format("GET", "/m" .. tid .. "-" .. counter)
end
