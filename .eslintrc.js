module.exports = {
  extends: '@loopback/eslint-config',
  parserOptions: {
    project: './tsconfig.eslint.json',
    tsconfigRootDir: __dirname,
  },
  overrides: [
    {
      // Tests read database rows (snake_case) and use mocha's `this`.
      files: ['src/__tests__/**/*.ts'],
      rules: {
        '@typescript-eslint/naming-convention': 'off',
        '@typescript-eslint/no-invalid-this': 'off',
      },
    },
  ],
};
