/*
 * easctl entry point: global options (--config FILE), then dispatch to the
 * registered subcommand (see easctl.h).  Exit codes: 0 success, 1 failure,
 * 2 usage error.
 */
#include "tools/easctl.h"

#include "proto/conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv);

/* Subcommands register from constructors, before main runs. */
#define EASCTL_MAX_COMMANDS 64
static const struct easctl_command *easctl_commands[EASCTL_MAX_COMMANDS];
static unsigned easctl_ncommands;

void
easctl_register(const struct easctl_command *cmd)
{
	if (easctl_ncommands < EASCTL_MAX_COMMANDS)
		easctl_commands[easctl_ncommands++] = cmd;
}

static void
usage(FILE *out)
{
	fprintf(out, "usage: easctl [--config FILE] COMMAND [ARGS...]\n\n"
		     "commands:\n");
	for (unsigned i = 0; i < easctl_ncommands; i++)
		fprintf(out, "  %-10s %s\n", easctl_commands[i]->name,
			easctl_commands[i]->summary);
	fprintf(out, "  %-10s %s\n", "help", "help [COMMAND]: show usage");
}

int
main(int argc, char **argv)
{
	struct easctl_ctx ctx = {.config_path = CONF_DEFAULT_PATH};
	int i = 1;

	const char *env = getenv("EASD_CONFIG");
	if (env != NULL && *env != 0)
		ctx.config_path = env;
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			ctx.config_path = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			ctx.config_path = argv[i] + 9;
			i++;
		} else if (strcmp(argv[i], "-h") == 0 ||
			   strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "easctl: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 < argc) {
			for (unsigned c = 0; c < easctl_ncommands; c++)
				if (strcmp(easctl_commands[c]->name,
					   argv[i + 1]) == 0) {
					fputs(easctl_commands[c]->usage,
					      stdout);
					return 0;
				}
		}
		usage(stdout);
		return 0;
	}
	for (unsigned c = 0; c < easctl_ncommands; c++)
		if (strcmp(easctl_commands[c]->name, argv[i]) == 0)
			return easctl_commands[c]->run(&ctx, argc - i,
						       argv + i);
	fprintf(stderr, "easctl: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
