// A child process that exits at once, without adopting the pipe end it was given.
process.exit(0);
