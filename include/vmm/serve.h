/* The commands behind the control socket: main.c calls these. */
#ifndef VMM_SERVE_H
#define VMM_SERVE_H

/* vmm serve --qmp unix:PATH [--config FILE]: argv[1] is "serve". */
int serve_main(int argc, char **argv);
/* vmm run --qmp unix:PATH CONFIG: one VM; ends with its status. */
int run_with_qmp(const char *config_path, const char *qmp, unsigned timeout);
/* vmm ctl --qmp PATH COMMAND [ARGS] | --events: argv[1] is "ctl". */
int ctl_main(int argc, char **argv);

#endif
