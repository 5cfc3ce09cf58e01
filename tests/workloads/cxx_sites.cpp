/* cxx_sites.cpp: a C++ program with known allocation sites, built with g++ -O2 -g like a real
 * one, for the readable-name and allocation-site tests: every allocation goes through operator
 * new and the standard library (std::map, std::string, std::vector, make_unique, make_shared)
 * or through the program's own wrapper, and the site a person names is the function of the
 * program that asked for it:
 *   app::make_nodes          100 x make_unique<Node> (200 B) and a vector reserved for them
 *   app::Table::fill         a std::vector<int> resized to 2000
 *   app::Registry::add       50 std::map<int, std::string> insertions of 19-character names:
 *                            a 72 B node and a 20 B string each; inlined into its caller,
 *                            app::fill_registry, by always_inline
 *   app::share               30 x make_shared<Record> (112 B with its counts) kept in a vector
 *   app::leak_strings        10 x new std::string(40, 'x'), never freed
 *   app::pool_alloc          the program's own wrapper of malloc, 20 x 300 B for app::use_pool
 * It prints each site's totals as "site=NAME allocs=N bytes=B" and the lines of the inlined
 * call as "line NAME=N". */
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "workload.h"

namespace app {

struct Node {
	char payload[200];
};

struct Record {
	long fields[12];
};

static std::string *leaked[16];
/* The lines of the inlined call and of the call into it, set on the same lines. */
static int add_line, fill_line;

/* The program's own allocation function: with --alloc-fn app::pool_alloc its callers are the
 * sites. */
__attribute__((noinline)) void *pool_alloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		abort();
	memset(p, 0, n);
	return p;
}

class Registry {
public:
	/* Inlined wherever it is called: the map's node and the name's buffer are allocated in the
	 * caller's code, on behalf of this member. */
	__attribute__((always_inline)) inline void add(int key, const char *name)
	{
		names_.emplace(key, name); add_line = __LINE__;
	}
	size_t size() const { return names_.size(); }

private:
	std::map<int, std::string> names_;
};

class Table {
public:
	__attribute__((noinline)) long fill(size_t n)
	{
		cells_.resize(n);
		long sum = 0;
		for (size_t i = 0; i < n; i++)
			sum += cells_[i] = (int)i;
		return sum;
	}

private:
	std::vector<int> cells_;
};

__attribute__((noinline)) long make_nodes(std::vector<std::unique_ptr<Node>> &out, int n)
{
	out.reserve((size_t)n);
	for (int i = 0; i < n; i++) {
		out.push_back(std::make_unique<Node>());
		out.back()->payload[0] = (char)i;
	}
	return out.back()->payload[0];
}

__attribute__((noinline)) size_t fill_registry(Registry &reg, int n)
{
	char name[32];
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof name, "registry-entry-%04d", i);
		reg.add(i, name); fill_line = __LINE__;
	}
	return reg.size();
}

__attribute__((noinline)) long share(std::vector<std::shared_ptr<Record>> &out, int n)
{
	out.reserve((size_t)n);
	for (int i = 0; i < n; i++) {
		out.push_back(std::make_shared<Record>());
		out.back()->fields[0] = i;
	}
	return out.back()->fields[0];
}

__attribute__((noinline)) size_t leak_strings(int n)
{
	size_t len = 0;
	for (int i = 0; i < n && i < 16; i++) {
		leaked[i] = new std::string(40, 'x');
		len += leaked[i]->size();
	}
	return len;
}

__attribute__((noinline)) long use_pool(int n)
{
	long sum = 0;
	for (int i = 0; i < n; i++) {
		char *p = (char *)pool_alloc(300);
		p[i] = (char)i;
		sum += p[i];
		free(p);
	}
	return sum;
}

} // namespace app

int main()
{
	long check = 0;
	{
		std::vector<std::unique_ptr<app::Node>> nodes;
		check += app::make_nodes(nodes, 100);
		app::Table table;
		check += table.fill(2000);
		app::Registry reg;
		check += (long)app::fill_registry(reg, 50);
		std::vector<std::shared_ptr<app::Record>> records;
		check += app::share(records, 30);
		check += (long)app::leak_strings(10);
		check += app::use_pool(20);
	}
	say("site=app::make_nodes allocs=101 bytes=%zu\n", 100 * sizeof(app::Node) + 100 * 8);
	say("site=app::Table::fill allocs=1 bytes=%zu\n", 2000 * sizeof(int));
	say("site=app::Registry::add allocs=100 bytes=%d\n", 50 * (72 + 20));
	say("site=app::share allocs=31 bytes=%d\n", 30 * 112 + 30 * 16);
	say("site=app::leak_strings allocs=20 bytes=%d\n", 10 * 32 + 10 * 41);
	say("site=app::pool_alloc allocs=20 bytes=%d\n", 20 * 300);
	say("line app::Registry::add=%d\nline app::fill_registry=%d\n", app::add_line,
	    app::fill_line);
	say("check=%ld\n", check);
	return 0;
}
