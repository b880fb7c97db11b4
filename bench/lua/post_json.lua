-- POST a JSON body; every "{n}" in it becomes a number unique to this request (thread id and count).
-- wrk -s post_json.lua URL -- 'BODY'
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  template = args[1]
  unique = template:find("{n}", 1, true) ~= nil
  n = 0
  fixed = wrk.format("POST", nil, {["Content-Type"] = "application/json"}, template)
end

function request()
  if not unique then
    return fixed
  end
  n = n + 1
  local body = template:gsub("{n}", id .. "-" .. n)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
