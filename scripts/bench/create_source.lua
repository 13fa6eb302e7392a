-- wrk script for POST /api/v1/sources: every request creates a new source with a unique, valid
-- name made of the run's nonce (BENCH_NONCE, random per wrk run), the wrk thread and a counter.
-- The body is the contract's create body with every field set.

dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

local threads = 0

function setup(thread)
   threads = threads + 1
   thread:set("tid", threads)
end

local nonce = os.getenv("BENCH_NONCE") or tostring(os.time())
local counter = 0
local headers = { ["Content-Type"] = "application/json" }

function request()
   counter = counter + 1
   local name = string.format("bench-%s-t%d-%d", nonce, tid or 0, counter)
   local body = '{"name":"' .. name .. '","pg_host":"db.example.com","pg_port":5432,'
      .. '"pg_database":"shop","pg_username":"replicator","pg_password":"bench-secret",'
      .. '"publication_name":"shop_pub","replication_id":7}'
   return wrk.format("POST", "/api/v1/sources", headers, body)
end
