# torture.mk - the torture battery (issue 12), included by the top
# Makefile. `make torture` runs the full battery, `make torture-short` the
# CI run (about 2-3 minutes on 2 cores), `make soak` the long run with 50
# tablets and mixed faults for SOAK_MINUTES (default 10). Each builds
# everything first (`all`, for dala and dala-server) and then build/torture.

SOAK_MINUTES ?= 10

# The battery's own files (tests/torture/ also holds the durability tests'
# VFS shim, which is not part of this program).
TORTURE_SRC = $(addprefix tests/torture/,torture_main.c torture_testhelp.c world.c server_child.c tablet.c \
              model.c convergence.c figures.c fault_proxy.c contention.c trickle.c \
              scenario_network.c scenario_kill_server.c scenario_kill_tablet.c scenario_slow_clients.c \
              scenario_soak.c)
TORTURE_OBJ = $(TORTURE_SRC:%.c=$(BUILD)/%.o) $(BUILD)/tests/e2e_support.o $(BUILD)/tests/server_harness.o \
              $(BUILD)/tests/records_gen.o $(BUILD)/tests/raw_client.o $(BUILD)/tests/child_server.o \
              $(BUILD)/tests/testhelp_files.o

$(BUILD)/torture: $(TORTURE_OBJ) $(BUILD)/libdala_server.a $(BUILD)/libdala.a $(BUILD)/libdala_sync.a
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ $(TORTURE_OBJ) $(BUILD)/libdala_server.a $(BUILD)/libdala.a \
	    $(BUILD)/libdala_sync.a $(SERVER_LIBS) -lm

.PHONY: torture torture-short soak
torture: all
	@$(MAKE) --no-print-directory $(BUILD)/torture
	$(BUILD)/torture --full

torture-short: all
	@$(MAKE) --no-print-directory $(BUILD)/torture
	$(BUILD)/torture --short

soak: all
	@$(MAKE) --no-print-directory $(BUILD)/torture
	$(BUILD)/torture --soak --minutes $(SOAK_MINUTES)
