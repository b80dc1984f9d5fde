import { OUTPUT_HELP, OUTPUT_OPTIONS, Output } from '../output.js';
import { ListRepository } from '../library/signing.js';
import { readStrictJSONFile, MAX_POLICY_FILE_BYTES, PublisherListError } from '../library/verifying.js';
import { UsageError, parseCommandLine, type Subcommand } from '../usage.js';
import { folderOperand } from './maintainer-options.js';

export const addCommand: Subcommand = {
  name: 'add',
  summary: 'add an entry to the list (signed by the next sign)',
  help: `Usage: kernelseal publishers add DIR --repos PATTERN (--policy FILE | --github OWNER/NAME ...) [options]

Adds an entry to DIR/kernel-publishers.json: who may sign the kernels of the Hub repositories
PATTERN names. The list is checked as clients check it; nothing is written if it is invalid.
Clients see the entry once 'kernelseal publishers sign' has signed it and the folder is uploaded.

      --repos PATTERN               org/name (one repository) or org/* (all of org's); an entry
                                    naming org/name exactly decides alone for it, over org/*
      --policy FILE                 a policy file of certificate identities (README: Policies;
                                    no "builtin", no key, CA or log waiver)
      --github OWNER/NAME           or: builds of this GitHub repository by GitHub Actions,
      --workflow PATH                   by this workflow (.github/workflows/build.yaml)
      --ref REF                         at this ref (refs/heads/main; needed with --workflow)
      --valid-from TIME             signatures made from this time (RFC 3339) ...
      --valid-until TIME            ... and before this one count (each verified time)
      --note TEXT                   shown to users with the entry

${OUTPUT_HELP}

Example:
  kernelseal publishers add trust-list --repos 'kernels-community/*' --github huggingface/kernels-community \\
      --workflow .github/workflows/build.yaml --ref refs/heads/main --note 'kernels-community CI'`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      repos: { type: 'string' },
      policy: { type: 'string' },
      github: { type: 'string' },
      workflow: { type: 'string' },
      ref: { type: 'string' },
      'valid-from': { type: 'string' },
      'valid-until': { type: 'string' },
      note: { type: 'string' },
      ...OUTPUT_OPTIONS,
    });
    const dir = folderOperand(positionals, 'the list to edit');
    if (values.repos === undefined) throw new UsageError('--repos org/name or org/* is required');
    if ((values.policy === undefined) === (values.github === undefined)) throw new UsageError('give exactly one of --policy FILE and --github OWNER/NAME');
    if (values.policy !== undefined && (values.workflow !== undefined || values.ref !== undefined)) throw new UsageError('--workflow and --ref go with --github');
    let policy: unknown;
    if (values.policy !== undefined) {
      policy = await readStrictJSONFile(values.policy, MAX_POLICY_FILE_BYTES, (message) => new UsageError(`--policy ${message}`));
    } else {
      policy = { github: { repository: values.github, ...(values.workflow ? { workflow: values.workflow } : {}), ...(values.ref ? { ref: values.ref } : {}) } };
    }
    const entry = {
      repos: values.repos,
      policy,
      ...(values['valid-from'] ? { validFrom: values['valid-from'] } : {}),
      ...(values['valid-until'] ? { validUntil: values['valid-until'] } : {}),
      ...(values.note ? { note: values.note } : {}),
    };
    const repository = await ListRepository.read(dir);
    await repository
      .editDraft((list) => {
        if (list.entries.some((e) => String(e.repos).toLowerCase() === values.repos!.toLowerCase())) {
          throw new UsageError(`${values.repos}: the list has an entry for it already (remove it first, or revoke it)`);
        }
        list.entries.push(entry);
      })
      .catch((error: unknown) => {
        // The entry as given would make the list invalid: the command line's mistake.
        throw error instanceof PublisherListError ? new UsageError(error.message) : error;
      });
    const output = new Output('publishers add', values);
    output.add({ kind: 'list-changed', subject: dir, change: { action: 'added', repos: values.repos } });
    return output.finish();
  },
};
