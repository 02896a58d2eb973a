import { defineConfig } from 'steward';
import { ExpenseInput, expenseApproval } from './src/expenseApproval.ts';

export default defineConfig({
  machines: [
    {
      id: 'expense-approval',
      version: 1,
      machine: expenseApproval,
      input: ExpenseInput,
      description:
        'An expense request: the manager approves, finance approves too from 1,000 on; expires at its deadline.',
    },
  ],
  dataDir: './.steward/data',
});
