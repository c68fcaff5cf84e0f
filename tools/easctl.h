/*
 * easctl: the administrator's command line.  Each subcommand lives in its
 * own file tools/easctl_<name>.c and registers itself at start-up with
 * EASCTL_COMMAND, so adding a subcommand never edits a shared table.
 */
#ifndef EASD_TOOLS_EASCTL_H
#define EASD_TOOLS_EASCTL_H

struct easctl_ctx {
	const char *config_path; /* --config, or CONF_DEFAULT_PATH */
};

struct easctl_command {
	const char *name;    /* first word: "wbxml", "user", ... */
	const char *summary; /* one line for `easctl help` */
	const char *usage;   /* full usage text */
	/* argv[0] is the subcommand name; returns the process exit code
	 * (0 ok, 1 failure, 2 usage error). */
	int (*run)(const struct easctl_ctx *ctx, int argc, char **argv);
};

void easctl_register(const struct easctl_command *cmd);

#define EASCTL_COMMAND(var)                                                   \
	static void easctl_register_##var(void) __attribute__((constructor)); \
	static void easctl_register_##var(void)                               \
	{                                                                     \
		easctl_register(&(var));                                      \
	}

#endif
