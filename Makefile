# dns01d -- top-level GNU Makefile (no recursion; objects in $(B)/)
# SPDX-License-Identifier: ISC

B ?= build
# Install paths: every one can be set on the command line (make install PREFIX=/usr ...).
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= /lib/systemd/system
CC ?= cc
PKGS := ldns libmicrohttpd gnutls sqlite3 libpq libcrypto libssl libcurl jansson libsystemd libseccomp

WARN := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
	-Wpointer-arith -Wcast-qual -Wformat=2 -Wimplicit-fallthrough
HARDEN := -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fPIE
OPT ?= -O2 -g
SAN ?=
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(HARDEN) $(SAN) -pthread \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
LDFLAGS_ALL := -pie -Wl,-z,relro,-z,now $(SAN) -pthread $(LDFLAGS)
LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcrypt

# The daemon's modules; acme/ is the ACME protocol (both programs), client/ the dns01 CLI,
# main.c files are entry points.
COMMON_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard common/*.c))
STORAGE_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard storage/*.c))
DNSD_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard dnsd/*.c))
API_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard api/*.c))
ACME_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard acme/*.c))
DAEMON_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard daemon/*.c))
AUTOCERT_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard autocert/*.c))
CLIENT_OBJ := $(patsubst %.c,$(B)/%.o,$(filter-out client/main.c,$(wildcard client/*.c)))
LIB_OBJ := $(COMMON_OBJ) $(STORAGE_OBJ) $(DNSD_OBJ) $(API_OBJ)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
# The allocation guard counts malloc calls made by our own objects.
WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free

.PHONY: all test check bench install lint clean deps run unit fuzz fuzz-build
all: $(B)/dns01d $(B)/dns01 $(UNIT_BIN)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

$(B)/dns01d: $(DAEMON_OBJ) $(LIB_OBJ) $(AUTOCERT_OBJ) $(ACME_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(B)/dns01: $(B)/client/main.o $(CLIENT_OBJ) $(ACME_OBJ) $(COMMON_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

# Each unit test links only the modules it tests (and what they use).
TEST_LINK = @mkdir -p $(dir $@); $(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)
$(B)/tests/test_config $(B)/tests/test_cidr $(B)/tests/test_common: $(B)/tests/%: $(B)/tests/unit/%.o $(COMMON_OBJ)
	$(TEST_LINK)
$(B)/tests/test_storage: $(B)/tests/unit/test_storage.o $(STORAGE_OBJ) $(COMMON_OBJ)
	$(TEST_LINK)
$(B)/tests/test_dnsd: $(B)/tests/unit/test_dnsd.o $(DNSD_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@); $(CC) $(LDFLAGS_ALL) $(WRAP) -o $@ $^ $(LIBS)
$(B)/tests/test_api $(B)/tests/test_json: $(B)/tests/%: $(B)/tests/unit/%.o $(LIB_OBJ)
	$(TEST_LINK)
$(B)/tests/test_client: $(B)/tests/unit/test_client.o $(CLIENT_OBJ) $(ACME_OBJ) $(COMMON_OBJ)
	$(TEST_LINK)
$(B)/tests/test_sandbox: $(B)/tests/unit/test_sandbox.o $(B)/daemon/sandbox.o $(COMMON_OBJ)
	$(TEST_LINK)

# libFuzzer targets (tests/fuzz/), built by Debian's clang with ASan+UBSan into
# build-fuzz/. `make fuzz FUZZ_SECONDS=N` runs each for N seconds on a temporary copy of
# its seed corpus (tests/fuzz/corpus/<target>/) and fails on any finding.
FUZZ_B := build-fuzz
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := dns api config acme acmedns stored
FUZZ_CC ?= clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# gcc's build keeps these two warnings; clang's versions of them differ (it flags MHD's
# printf-style logger callback, and it does not read /* FALLTHROUGH */ comments).
FUZZ_CFLAGS := -Wno-format-nonliteral -Wno-implicit-fallthrough
fuzz:
	$(MAKE) B=$(FUZZ_B) CC=$(FUZZ_CC) OPT="-O1 -g" SAN="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
		CFLAGS="$(FUZZ_CFLAGS)" fuzz-build
	B=$(FUZZ_B) FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh $(FUZZ_TARGETS)

fuzz-build: $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz_%)
FUZZ_LINK = @mkdir -p $(dir $@); $(CC) $(LDFLAGS_ALL) -fsanitize=fuzzer -o $@ $^ $(LIBS)
$(B)/fuzz/fuzz_dns $(B)/fuzz/fuzz_config: $(B)/fuzz/%: $(B)/tests/fuzz/%.o $(DNSD_OBJ) $(COMMON_OBJ)
	$(FUZZ_LINK)
$(B)/fuzz/fuzz_api $(B)/fuzz/fuzz_stored: $(B)/fuzz/%: $(B)/tests/fuzz/%.o $(LIB_OBJ)
	$(FUZZ_LINK)
$(B)/fuzz/fuzz_acme: $(B)/tests/fuzz/fuzz_acme.o $(ACME_OBJ) $(COMMON_OBJ)
	$(FUZZ_LINK)
$(B)/fuzz/fuzz_acmedns: $(B)/tests/fuzz/fuzz_acmedns.o $(CLIENT_OBJ) $(ACME_OBJ) $(COMMON_OBJ)
	$(FUZZ_LINK)

# Install the Debian 12 packages the build, the tests and the benchmarks need (as root).
deps:
	sh deploy/deps.sh --test

# Run the server in the foreground on the default config (DNS 127.0.0.1:5353, API :8080).
run: $(B)/dns01d
	@mkdir -p data
	./$(B)/dns01d -c deploy/dev.cfg

test: all
	B=$(B) bash tests/run.sh

unit: all
	B=$(B) ONLY=unit bash tests/run.sh

check:
	$(MAKE) B=build-asan OPT="-O1 -g" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		FUZZ_SECONDS=0 test

bench: all
	B=$(B) bash bench/run.sh

# The unit is made from deploy/dns01d.service.in with the paths above. The example
# config is installed as $(SYSCONFDIR)/dns01d/config.cfg unless one is there already;
# it is mode 0644 so the unit's user can read it (it holds no secret as shipped).
install: $(B)/dns01d $(B)/dns01
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/dns01d
	install -m 0755 $(B)/dns01d $(DESTDIR)$(SBINDIR)/dns01d
	install -m 0755 $(B)/dns01 $(DESTDIR)$(BINDIR)/dns01
	install -m 0644 docs/dns01d.8 $(DESTDIR)$(MANDIR)/man8/dns01d.8
	install -m 0644 docs/dns01d.conf.5 $(DESTDIR)$(MANDIR)/man5/dns01d.conf.5
	install -m 0644 docs/dns01.1 $(DESTDIR)$(MANDIR)/man1/dns01.1
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		deploy/dns01d.service.in >$(DESTDIR)$(SYSTEMDUNITDIR)/dns01d.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/dns01d.service
	[ -e $(DESTDIR)$(SYSCONFDIR)/dns01d/config.cfg ] || \
		install -m 0644 deploy/config.cfg $(DESTDIR)$(SYSCONFDIR)/dns01d/config.cfg

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--suppress=missingIncludeSystem -D_GNU_SOURCE common storage dnsd api acme autocert client daemon

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(B) -name '*.d' 2>/dev/null)
