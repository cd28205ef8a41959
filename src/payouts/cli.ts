// `g2p-bridge program show CODE` and `program channel add|remove CODE ...`: a program's payout channels from
// the console. Bad input gets a code and exit status 1, like the rest of `program`.
import type { Queryable } from '../db/index.js';
import { ChannelError, listPayoutChannels, removePayoutChannel, setPayoutChannel } from './channels.js';

interface ChannelOptions {
  provider?: string;
  account?: string;
  currency?: string;
}

export async function channelCommand(
  db: Queryable,
  positionals: string[],
  v: ChannelOptions,
): Promise<number> {
  const [sub, action, program] = positionals;
  try {
    if (sub === 'show' && action) {
      const { rows } = await db.query(
        `SELECT benefit_program_mnemonic, benefit_program_name, sponsor_bank_code, sponsor_bank_account_number,
                trim(sponsor_bank_account_currency) AS sponsor_bank_account_currency
           FROM benefit_program WHERE benefit_program_mnemonic = $1`,
        [action],
      );
      if (!rows[0]) throw new ChannelError('channel.program.unknown', `no program ${action}`);
      const channels = await listPayoutChannels(db, action);
      process.stdout.write(
        `${JSON.stringify(
          {
            ...rows[0],
            payout_channels: [
              {
                channel: 'bank',
                bank_code: rows[0].sponsor_bank_code,
                account: rows[0].sponsor_bank_account_number,
              },
              ...channels.map((c) => ({
                channel: 'wallet',
                provider_code: c.providerCode,
                debit_party_account: c.debitPartyAccount,
                currency: c.currency,
              })),
            ],
          },
          null,
          2,
        )}\n`,
      );
      return 0;
    }
    if (sub === 'channel' && action === 'add' && program && v.provider && v.account && v.currency) {
      const c = await setPayoutChannel(db, {
        program,
        providerCode: v.provider,
        debitPartyAccount: v.account,
        currency: v.currency,
      });
      process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
      return 0;
    }
    if (sub === 'channel' && action === 'remove' && program && v.provider) {
      const removed = await removePayoutChannel(db, program, v.provider);
      process.stdout.write(removed ? 'removed\n' : 'no such channel\n');
      return removed ? 0 : 1;
    }
    process.stderr.write(
      'program show CODE | program channel add CODE --provider P --account ID --currency C | program channel remove CODE --provider P\n',
    );
    return 2;
  } catch (error) {
    if (error instanceof ChannelError) {
      process.stderr.write(`${error.code}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
