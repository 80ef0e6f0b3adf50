-- A plain GET of the URL given on the command line (headers from -H).
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
