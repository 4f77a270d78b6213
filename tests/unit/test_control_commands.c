/*
 * test_control_commands.c - src/master/control_commands.c: the command line the master's
 * control endpoint reads (asgid --control), and the --control option of the command line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/control_commands.h"
#include "platform/platform.h"
#include "settings/settings_load.h"

static const control_command *parse(const char *line, size_t len, int complete, char *why) {
  return control_command_parse(line, len, complete, why, 256);
}

static void test_each_word_is_its_signal_s_event(void **state) {
  (void)state;
  static const struct {
    const char *word, *signal;
    operator_event event;
  } expected[] = {
      {"stop", "TERM", OPERATOR_STOP_GRACEFUL}, {"quit", "QUIT", OPERATOR_STOP_FAST},
      {"reload", "HUP", OPERATOR_RELOAD},       {"reopen", "USR1", OPERATOR_REOPEN_LOGS},
      {"incr", "TTIN", OPERATOR_WORKERS_MORE},  {"decr", "TTOU", OPERATOR_WORKERS_FEWER},
      {"upgrade", "USR2", OPERATOR_UPGRADE},
  };
  assert_int_equal(control_command_count, sizeof expected / sizeof expected[0]);
  for (size_t i = 0; i < control_command_count; i++) {
    const control_command *c = control_command_find(expected[i].word);
    assert_non_null(c);
    assert_string_equal(c->signal, expected[i].signal);
    assert_int_equal(c->event, expected[i].event);
  }
  assert_null(control_command_find("STOP"));
  assert_null(control_command_find(""));
}

static void test_a_line_names_a_command(void **state) {
  (void)state;
  char why[256];
  assert_int_equal(parse("stop\n", 5, 0, why)->event, OPERATOR_STOP_GRACEFUL);
  assert_int_equal(parse("reload\r\n", 8, 0, why)->event, OPERATOR_RELOAD);
  /* what follows the line is not looked at */
  assert_int_equal(parse("incr\nquit\n", 10, 0, why)->event, OPERATOR_WORKERS_MORE);
  /* the end of the connection ends the line */
  assert_int_equal(parse("decr", 4, 1, why)->event, OPERATOR_WORKERS_FEWER);
}

static void test_an_unfinished_line_waits(void **state) {
  (void)state;
  char why[256];
  assert_null(parse("sto", 3, 0, why));
  assert_string_equal(why, "");
  assert_null(parse("", 0, 0, why));
  assert_string_equal(why, "");
  char line[CONTROL_LINE_MAX];
  memset(line, 'x', sizeof line);
  assert_null(parse(line, CONTROL_LINE_MAX - 1, 0, why)); /* its newline may still fit */
  assert_string_equal(why, "");
}

static void test_bad_lines_say_why(void **state) {
  (void)state;
  char why[256];
  assert_null(parse("bogus\n", 6, 0, why));
  assert_string_equal(why, "unknown command \"bogus\" (expected one of stop, quit, reload, "
                           "reopen, incr, decr, upgrade)");
  assert_null(parse("\n", 1, 0, why));
  assert_string_equal(why, "empty command (expected one of stop, quit, reload, reopen, incr, "
                           "decr, upgrade)");
  assert_null(parse("", 0, 1, why));
  assert_true(strncmp(why, "empty command", 13) == 0);
  /* a NUL inside the word, escapes and quotes are shown, not passed on */
  assert_null(parse("stop\0x\n", 7, 0, why));
  assert_true(strncmp(why, "unknown command \"stop\\x00x\"", 27) == 0);
  assert_null(parse("\x1b[0m\"\\\n", 7, 0, why));
  assert_true(strncmp(why, "unknown command \"\\x1b[0m\\x22\\x5c\"", 33) == 0);
  assert_null(parse(" stop\n", 6, 0, why));
  assert_true(strncmp(why, "unknown command \" stop\"", 23) == 0);
}

static void test_an_over_long_line_is_refused_at_once(void **state) {
  (void)state;
  char why[256];
  char line[CONTROL_LINE_MAX + 1];
  memset(line, 'x', sizeof line);
  assert_null(parse(line, CONTROL_LINE_MAX, 0, why));
  assert_string_equal(why, "the command is longer than 63 bytes");
  line[CONTROL_LINE_MAX] = '\n';
  assert_null(parse(line, CONTROL_LINE_MAX + 1, 0, why));
  assert_string_equal(why, "the command is longer than 63 bytes");
  /* 63 bytes and the newline: the longest line, an unknown word */
  line[CONTROL_LINE_MAX - 1] = '\n';
  assert_null(parse(line, CONTROL_LINE_MAX, 0, why));
  assert_true(strncmp(why, "unknown command", 15) == 0);
}

static const settings_action_option *control_option(void) {
  for (size_t i = 0; i < settings_action_option_count; i++)
    if (strcmp(settings_action_options[i].long_name, "control") == 0)
      return &settings_action_options[i];
  return NULL;
}

static void test_the_option_s_help_lists_every_command(void **state) {
  (void)state;
  const settings_action_option *option = control_option();
  assert_non_null(option);
  assert_string_equal(option->value_name, "COMMAND");
  for (size_t i = 0; i < control_command_count; i++) {
    char word[32];
    snprintf(word, sizeof word, " %s,", control_commands[i].word);
    if (!strstr(option->help, word)) {
      snprintf(word, sizeof word, " %s ", control_commands[i].word);
      if (!strstr(option->help, word)) fail_msg("--control's help lacks %s", word);
    }
  }
}

static asgid_settings_action load(asgid_settings *s, char **argv, int argc, char **errors) {
  platform_text_capture err;
  assert_int_equal(platform_text_capture_open(&err), 0);
  asgid_settings_action action = asgid_settings_load_args(s, argc, argv, NULL, err.stream);
  *errors = platform_text_capture_close(&err);
  assert_non_null(*errors);
  return action;
}

static void test_the_option_takes_the_command_and_reads_the_settings(void **state) {
  (void)state;
  asgid_settings s;
  char *errors;
  char *args[] = {"asgid", "--control", "reload", "-p", "/run/a.pid", "--control-timeout=2s"};
  assert_int_equal(load(&s, args, 6, &errors), ASGID_ACTION_CONTROL);
  assert_string_equal(errors, "");
  assert_string_equal(s.control_command, "reload");
  assert_string_equal(s.pidfile, "/run/a.pid");
  assert_int_equal(s.control_timeout, 2000);
  asgid_settings_free(&s);
  free(errors);

  char *attached[] = {"asgid", "--control=stop"};
  assert_int_equal(load(&s, attached, 2, &errors), ASGID_ACTION_CONTROL);
  assert_string_equal(s.control_command, "stop");
  asgid_settings_free(&s);
  free(errors);

  char *missing[] = {"asgid", "--control"};
  assert_int_equal(load(&s, missing, 2, &errors), ASGID_ACTION_ERROR);
  assert_string_equal(errors, "command line --control: needs a value (COMMAND)\n");
  asgid_settings_free(&s);
  free(errors);

  char *twice[] = {"asgid", "--control", "stop", "--control", "quit"};
  assert_int_equal(load(&s, twice, 5, &errors), ASGID_ACTION_ERROR);
  assert_string_equal(errors, "command line --control: only one action at a time\n");
  asgid_settings_free(&s);
  free(errors);

  char *other[] = {"asgid", "--check-config", "--control", "stop"};
  assert_int_equal(load(&s, other, 4, &errors), ASGID_ACTION_ERROR);
  assert_string_equal(errors, "command line --control: only one action at a time\n");
  asgid_settings_free(&s);
  free(errors);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_each_word_is_its_signal_s_event),
      cmocka_unit_test(test_a_line_names_a_command),
      cmocka_unit_test(test_an_unfinished_line_waits),
      cmocka_unit_test(test_bad_lines_say_why),
      cmocka_unit_test(test_an_over_long_line_is_refused_at_once),
      cmocka_unit_test(test_the_option_s_help_lists_every_command),
      cmocka_unit_test(test_the_option_takes_the_command_and_reads_the_settings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
