-- POST /mcp: a JSON-RPC tools/call of `list_tasks` without arguments (the reader's 50 tasks),
-- stateless Streamable HTTP answered as JSON, for every reader in turn. wrk only sees the
-- status: bench/run.sh checks once with curl that the answer is a tool result without
-- `isError` before measuring.
dofile(os.getenv("BENCH_WRK") .. "/common.lua")

each_user(function(user)
   return { {
      method = "POST",
      path = "/mcp",
      headers = bearer(user, {
         ["Content-Type"] = "application/json",
         ["Accept"] = "application/json, text/event-stream",
      }),
      body = data.mcp_body,
   } }
end)
